\version "2.24.0"
\header {
  title = "Country Dance"
  composer = "Anonymous"
  tagline = ##f
}
\score {
  \new Staff \with { instrumentName = "Fiddle" } {
    \clef treble
    \key d \major
    \time 2/4
    \relative c'' {
      \repeat volta 2 {
        \grace { e16 } d8 a fis a | d8 e fis4 |
        \grace { fis16 } e8 d cis b | a4\trill a8 r |
        b8 cis d e | fis8 e d b |
      }
      \alternative {
        { a8 g fis e | d4 r | }
        { a'8 cis e cis | d4 \fermata r | }
      }
      \bar "|."
    }
  }
  \layout { }
}
