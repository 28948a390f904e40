\version "2.24.0"
\header {
  title = "Continuo Line"
  composer = "Anonymous"
  tagline = ##f
}
bassline = \relative c {
  \clef bass
  \key g \minor
  \time 4/4
  g4 a bes g | ees'4 d c d | g,4 bes c cis | d2 d, |
  g4 f ees d | c4 ees d2 | g1 \bar "|."
}
figs = \figuremode {
  <_>4 <6> <6> <5> | <6>4 <6> <7> <6 5> | <_>4 <6> <6 5> <7 5 3+> | <4>2 <3+> |
  <_>4 <6 4+ 2> <6> <6> | <6 5>4 <6> <4>8 <3+> <_>4 | <_>1 |
}
\score {
  <<
    \new Staff \with { instrumentName = "Violoncello" } \bassline
    \new FiguredBass \figs
  >>
  \layout { }
}
