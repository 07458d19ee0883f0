"""Packaged scheme rules (data only): one directory per city, one TOML file per scheme.

Read by `ringfence.domain.schemes.load_scheme_book`; London is the default, not a special case.
"""
