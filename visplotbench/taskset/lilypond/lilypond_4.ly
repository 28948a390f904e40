\version "2.24.0"
\header {
  title = "Snowfall"
  composer = "Anonymous"
  tagline = ##f
}
right = {
  \clef treble
  \key c \major
  \time 4/4
  \ottava #1
  e'''8 d''' c''' g'' e'''4 d''' |
  c'''8 b'' a'' g'' a''2 |
  f'''8 e''' d''' a'' c'''4 b'' |
  c'''1 |
  \ottava #0
  g''8 e'' c'' e'' g''4 c''' |
  b''8 a'' g'' f'' e''2 |
  d''8 f'' a'' c''' b''4 g'' |
  c'''1 \bar "|."
}
left = {
  \clef bass
  \key c \major
  \time 4/4
  << { e4 g e g | f4 a f a | d4 f g f | e1 | }
  \\ { c2 c | f,2 f, | b,2 g, | c1 | } >>
  << { e4 g e g | f4 a f a | f4 a g f | e1 | }
  \\ { c2 c | d2 d | g,2 g, | c1 | } >>
}
\score {
  \new PianoStaff \with { instrumentName = "Piano" } <<
    \new Staff = "rh" \right
    \new Staff = "lh" \left
  >>
  \layout { }
}
