\version "2.24.0"
\header {
  title = "Birdsong"
  instrument = "Piccolo"
  tagline = ##f
}
\score {
  \new Staff {
    \clef treble
    \key d \major
    \time 2/4
    \tempo "Vivace"
    d''16 fis'' a'' d''' fis'''8 e''' |
    d'''16 cis''' b'' a'' b''8 r |
    \ottava #1
    a'''16 b''' a''' fis''' d'''8 fis''' |
    e'''16 fis''' g''' a''' b'''8 a''' |
    \ottava #0
    g''16 fis'' e'' d'' cis''8 e'' |
    d''4 d'''4 \fermata \bar "|."
  }
  \layout { }
}
