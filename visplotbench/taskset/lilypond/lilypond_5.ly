\version "2.24.0"
\header {
  title = "Harbour Lights"
  tagline = ##f
}
harmonies = \chordmode {
  c1 | a1:m | f1 | g1:7 |
  e1:m | a1:m | d2:m g2:7 | c1 |
}
melody = \relative c'' {
  \key c \major
  \time 4/4
  g4 e c e | a2 e4 c | f4 a c a | g2. r4 |
  g4 b d b | c2 a4 e | f4 d g b, | c1 \bar "|."
}
\score {
  <<
    \new ChordNames { \harmonies }
    \new Staff { \melody }
  >>
  \layout { }
}
