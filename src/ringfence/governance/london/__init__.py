"""London's police-access instruments, DPIAs, directions and access rules: instruments.toml."""
