\version "2.24.0"
\header {
  title = "Arpeggio Study in E Minor"
  instrument = "Guitar"
  tagline = ##f
}
music = {
  \key e \minor
  \time 3/4
  e,8 b, e g b g | c8 g c' e' c' g | a,8 e a c' e' c' | b,8 fis b dis' fis' dis' |
  e,8 b, e g b g | a,8 e a c' e' c' | b,8 fis a b dis' b | e,2. \bar "|."
}
\score {
  \new StaffGroup <<
    \new Staff { \clef "treble_8" \music }
    \new TabStaff { \music }
  >>
  \layout { }
}
