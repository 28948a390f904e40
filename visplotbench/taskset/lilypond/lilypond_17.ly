\version "2.24.0"
\header {
  title = "Music Box"
  subtitle = "for celesta"
  tagline = ##f
}
\score {
  \new Staff \with { instrumentName = "Celesta" } {
    \clef treble
    \key f \major
    \time 3/4
    \tempo "Dolce" 4 = 90
    a''4 c''' f''' | e'''4. d'''8 c'''4 | bes''4 d''' g''' | f'''2. |
    \ottava #1
    c'''4 f''' a''' | g'''4. f'''8 e'''4 | d'''4 g''' bes''' | a'''2. |
    \ottava #0
    a''8 bes'' c''' a'' f''4 | c'''2 \fermata r4 \bar "|."
  }
  \layout { }
}
