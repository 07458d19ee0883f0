"""Packaged police-access governance (data only): one directory per city, ``instruments.toml``.

Read by `ringfence.domain.sharing.load_governance_book`; London is the default, not a special case.
"""
