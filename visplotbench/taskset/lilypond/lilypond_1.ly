\version "2.24.0"
\header {
  title = "Evening Waltz"
  composer = "Anonymous"
  tagline = ##f
}
\relative c'' {
  \clef treble
  \key g \major
  \time 3/4
  \tempo "Moderato" 4 = 112
  d4 b g | a2 fis4 | g4 a b | c2. |
  e4 c a | b2 g4 | a4 fis d | e2. |
  d'4 b g | a2 fis4 | g4 e' d | c2 b4 |
  a4 c e | d2 fis,4 | g2. ~ | g2 r4 \bar "|."
}
