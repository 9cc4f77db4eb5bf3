"""Job kinds: each kind is a function that executes one run through its context."""
