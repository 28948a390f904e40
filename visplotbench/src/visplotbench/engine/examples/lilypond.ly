\version "2.24.0"
\relative c' {
  \time 3/4
  c4 e g | c2. | b4 g e | c2. \bar "|."
}
