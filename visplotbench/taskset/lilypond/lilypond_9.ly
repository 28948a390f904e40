\version "2.24.0"
\header {
  title = "Minuet for String Quartet"
  composer = "Anonymous"
  tagline = ##f
}
global = { \key bes \major \time 3/4 }
violinOne = \relative c'' {
  \global f4 d bes | c4 ees g | f4 d8 c bes4 | c2 r4 |
  d4 f bes | a4 g f | ees4 c a | bes2. \bar "|."
}
violinTwo = \relative c'' {
  \global d4 bes f | a4 c ees | d4 bes8 a g4 | a2 r4 |
  bes4 d f | f4 ees d | c4 a f | f2. \bar "|."
}
viola = \relative c' {
  \global \clef alto bes4 f d | f4 a c | bes4 f g | f2 r4 |
  f4 bes d | c4 bes a | g4 ees c | d2. \bar "|."
}
cello = {
  \global \clef bass bes,4 r bes, | f,4 r f, | bes,4 d ees | f2 r4 |
  bes,4 r bes, | f4 g d | ees4 f f, | bes,2. \bar "|."
}
\score {
  \new StaffGroup <<
    \new Staff \with { instrumentName = "Violin I" } \violinOne
    \new Staff \with { instrumentName = "Violin II" } \violinTwo
    \new Staff \with { instrumentName = "Viola" } \viola
    \new Staff \with { instrumentName = "Cello" } \cello
  >>
  \layout { }
}
