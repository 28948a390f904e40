\version "2.24.0"
\header {
  title = "Expression Study"
  subtitle = "dynamics, articulations and slurs"
  tagline = ##f
}
\score {
  \new Staff {
    \clef treble
    \key a \major
    \time 6/8
    \relative c'' {
      \partial 8 e8\p |
      a4( gis8) fis4( e8) | d8-. cis-. b-. a4-- e'8 |
      fis8\< gis a b cis d | e4.->\f r4 e,8\p |
      a4( b8) cis4( d8) | e8-. d-. cis-. b4-> a8\> |
      gis8 fis e d cis b\! | a4.\fermata r4 \bar "|."
    }
  }
  \layout { }
}
