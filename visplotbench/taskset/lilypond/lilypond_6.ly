\version "2.24.0"
\header {
  title = "Basic Rock Groove"
  tagline = ##f
}
\score {
  \new DrumStaff \with { instrumentName = "Drum kit" } {
    \time 4/4
    \tempo 4 = 100
    \drummode {
      \repeat unfold 3 {
        << { hh8 hh hh hh hh hh hh hh } \\ { bd4 sn bd8 bd sn4 } >>
      }
      << { hh8 hh hh hh cymc4 r } \\ { bd4 sn16 sn sn sn tomh8 toml tomfl4 } >>
    }
    \bar "|."
  }
  \layout { }
}
