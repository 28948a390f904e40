\version "2.24.0"
\header {
  title = "Chorale for Two Voices"
  composer = "Anonymous"
  tagline = ##f
}
\score {
  \new Staff \with { instrumentName = "Duet" } {
    \clef treble
    \key d \minor
    \time 4/4
    \relative c'' {
      << { a4 a bes a | g2 f4 e | f4 g a c | d1 | }
      \\ { f,4 e d f | e2 d4 cis | d4 e f e | f1 | } >>
      << { d'4 c bes a | g4 a bes2 | a4 g f e | d1 \fermata | }
      \\ { f4 e d cis | d4 f g2 | f4 e d cis | a1 | } >>
    }
    \bar "|."
  }
}
