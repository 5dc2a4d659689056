"""The pure core: the rules of SPEC §2-§4 as functions of (state, event, now); no I/O, no clock."""
