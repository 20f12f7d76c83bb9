"""Records: the write unit, reads, write steps, references, history, merge, sharing."""
