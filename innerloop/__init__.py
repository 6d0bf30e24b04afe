"""innerloop: a small library for studying how gradient-based meta-learners learn."""
