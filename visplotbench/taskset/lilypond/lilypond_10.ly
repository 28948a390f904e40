\version "2.24.0"
\header {
  title = "Evening Hymn"
  tagline = ##f
}
global = { \key g \major \time 4/4 }
\score {
  \new ChoirStaff <<
    \new Staff \with { instrumentName = \markup \center-column { "Soprano" "Alto" } } {
      \global
      \relative c'' {
        << { b4 b a g | c2 b | a4 b c a | b1 | d4 c b a | g2 a | b4 a a g | g1 | }
        \\ { g4 g fis d | e2 g | fis4 g a fis | g1 | g4 e g fis | e2 fis | g4 g fis d | d1 | } >>
      }
      \bar "|."
    }
    \new Lyrics \lyricmode {
      Now4 the day is end2 -- ing,2 qui4 -- et falls the light;1
      stars4 a -- bove are shin2 -- ing,2 peace4 be ours to -- night.1
    }
    \new Staff \with { instrumentName = \markup \center-column { "Tenor" "Bass" } } {
      \global
      \clef bass
      \relative c' {
        << { d4 d d b | c2 d | d4 d e d | d1 | b4 c d d | c2 d | d4 e d c | b1 | }
        \\ { g4 g d g | a2 g | d4 g c, d | g1 | g4 a g d | c2 d | g4 c, d d | g,1 | } >>
      }
      \bar "|."
    }
  >>
  \layout { }
}
