"""The guide's own examples as data: every fenced block of docs/guide.md, classified
(a command to run, a file to create, expected output, an edit, or something else and
why), grouped into numbered procedures and examples, with what the lab needs to run
each one (substitutions) or why it cannot."""
