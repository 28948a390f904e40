\version "2.24.0"
\header {
  title = "Festival Overture"
  instrument = "Trumpet in B-flat"
  tagline = ##f
}
\score {
  \new Staff {
    \compressMMRests {
      \clef treble
      \key d \major
      \time 4/4
      \tempo "Allegro" 4 = 126
      R1*8 |
      \mark \default
      \relative c'' {
        a4\f d8 d d4 fis | e4 d8 cis d2 |
        a4 d8 d fis4 a | a2. r4 |
      }
      R1*6 |
      \mark \default
      \tempo "Maestoso" 4 = 84
      \relative c'' {
        d2\ff a | fis'4. e8 d4 a | b4 cis d e | d1 \fermata \bar "|."
      }
    }
  }
  \layout { }
}
