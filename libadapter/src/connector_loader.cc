// Being written: see git log.
