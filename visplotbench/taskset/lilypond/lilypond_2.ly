\version "2.24.0"
\header {
  title = "The Little Boat"
  subtitle = "a song for young singers"
  tagline = ##f
}
melody = \relative c' {
  \clef treble
  \key f \major
  \time 4/4
  f4 f g a | c2 a | bes4 bes a g | f1 |
  a4 a bes c | d2 c | bes4 a g g | f1 \bar "|."
}
words = \lyricmode {
  Rock -- ing on the wa -- ter,
  see the lit -- tle boat,
  sun -- shine on the ri -- ver,
  watch it gent -- ly float.
}
\score {
  <<
    \new Voice = "tune" { \melody }
    \new Lyrics \lyricsto "tune" { \words }
  >>
  \layout { }
}
