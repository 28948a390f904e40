\version "2.24.0"
\header {
  title = "Triplet Song"
  tagline = ##f
}
\score {
  \new Staff {
    \clef treble
    \time 4/4
    \tempo "Andante"
    \relative c' {
      \key e \major
      e4 \tuplet 3/2 { gis8 a b } cis2 | b4 \tuplet 3/2 { a8 gis fis } e2 |
      fis4 gis a ~ \tuplet 3/2 { a8 b cis } | b1 |
      \bar "||"
      \key g \major
      d4 \tuplet 3/2 { b8 c d } e2 | d4 \tuplet 3/2 { c8 b a } g2 |
      a4 b c ~ \tuplet 3/2 { c8 d e } | g,1 \bar "|."
    }
  }
  \layout { }
}
