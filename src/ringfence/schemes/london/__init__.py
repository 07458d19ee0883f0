"""London's schemes as dated configuration: ulez.toml, ccz.toml, lez.toml."""
