\version "2.24.0"
\header {
  title = "Rhythm Reading Exercise No. 3"
  tagline = ##f
}
\score {
  \new RhythmicStaff \with { instrumentName = "Clap" } {
    \time 4/4
    \tempo 4 = 80
    c4 c8 c c4 r |
    c8 c c c c2 |
    \tuplet 3/2 { c8 c c } c4 c8. c16 c4 |
    c4. c8 c4 c |
    c16 c c c c8 c \tuplet 3/2 { c4 c c } |
    r8 c c4 c8 c r4 |
    c2 \tuplet 3/2 { c4 c c } |
    c1 \bar "|."
  }
  \layout { }
}
