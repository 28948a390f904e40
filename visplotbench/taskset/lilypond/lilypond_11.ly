\version "2.24.0"
\header {
  title = "Late Night Avenue"
  composer = "Anonymous"
  tagline = ##f
}
changes = \chordmode {
  bes1:maj7 | g1:m7 | c2:m7 f2:7 | bes1:maj7 |
  ees1:maj7 | d1:m7 | c2:m7 f2:7 | bes1:6 |
}
melody = \relative c'' {
  \key bes \major
  \time 4/4
  \tempo "Swing" 4 = 132
  d4 c8 bes f4 bes | d4. c8 bes4 g | ees'4 d c a | bes2. r4 |
  g'4 f8 ees bes4 ees | f4. d8 a4 f | g4 a c ees | d1 \bar "|."
}
words = \lyricmode {
  Walk -- ing down the a -- ve -- nue,
  lights are glow -- ing soft and low,
  rain is fall -- ing on the street,
  ci -- ty sings its qui -- et song.
}
\score {
  <<
    \new ChordNames { \changes }
    \new Voice = "lead" { \melody }
    \new Lyrics \lyricsto "lead" { \words }
  >>
  \layout { }
}
