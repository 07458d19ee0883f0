"""SYNTHETIC, hand-made: typical postcode districts of each London borough.

Used only to give simulated keepers a plausible `keeper_postcode_district`. Postcode districts
do not follow borough boundaries and many straddle two or three boroughs; this table is an
approximation written from general knowledge, not derived from any postcode dataset. Do not use it
as a lookup.
"""

from __future__ import annotations

POSTCODE_DISTRICTS: dict[str, tuple[str, ...]] = {
    "E09000001": ("EC1A", "EC2V", "EC2M", "EC3V", "EC4M", "EC4V"),  # City of London
    "E09000002": ("IG11", "RM8", "RM9", "RM10"),  # Barking and Dagenham
    "E09000003": (
        "N2",
        "N3",
        "N11",
        "N12",
        "N14",
        "N20",
        "NW4",
        "NW7",
        "NW9",
        "NW11",
        "EN4",
        "EN5",
    ),
    "E09000004": ("DA1", "DA5", "DA6", "DA7", "DA8", "DA14", "DA15", "DA16", "DA17", "SE2"),
    "E09000005": ("NW2", "NW10", "HA0", "HA9", "HA3"),  # Brent
    "E09000006": ("BR1", "BR2", "BR3", "BR4", "BR5", "BR6", "BR7", "SE20"),  # Bromley
    "E09000007": ("NW1", "NW3", "NW5", "NW6", "WC1H", "WC1X", "N6"),  # Camden
    "E09000008": ("CR0", "CR2", "CR5", "CR7", "CR8", "SE25", "SE19"),  # Croydon
    "E09000009": ("W3", "W5", "W7", "W13", "UB1", "UB2", "UB5", "UB6"),  # Ealing
    "E09000010": ("EN1", "EN2", "EN3", "N9", "N13", "N18", "N21"),  # Enfield
    "E09000011": ("SE3", "SE7", "SE9", "SE10", "SE18", "SE28"),  # Greenwich
    "E09000012": ("E2", "E5", "E8", "E9", "N1", "N16"),  # Hackney
    "E09000013": ("W6", "W12", "W14", "SW6"),  # Hammersmith and Fulham
    "E09000014": ("N4", "N8", "N10", "N15", "N17", "N22"),  # Haringey
    "E09000015": ("HA1", "HA2", "HA3", "HA5", "HA7"),  # Harrow
    "E09000016": ("RM1", "RM2", "RM3", "RM5", "RM7", "RM11", "RM12", "RM13", "RM14"),  # Havering
    "E09000017": ("UB3", "UB4", "UB7", "UB8", "UB10", "HA4", "HA6"),  # Hillingdon
    "E09000018": ("TW3", "TW4", "TW5", "TW7", "TW8", "TW13", "TW14", "W4"),  # Hounslow
    "E09000019": ("N1", "N4", "N5", "N7", "N19", "EC1V"),  # Islington
    "E09000020": ("SW3", "SW5", "SW7", "SW10", "W8", "W10", "W11"),  # Kensington and Chelsea
    "E09000021": ("KT1", "KT2", "KT3", "KT5", "KT6", "KT9"),  # Kingston upon Thames
    "E09000022": ("SE11", "SE24", "SE27", "SW2", "SW4", "SW8", "SW9", "SW16"),  # Lambeth
    "E09000023": ("SE4", "SE6", "SE8", "SE12", "SE13", "SE14", "SE23", "SE26"),  # Lewisham
    "E09000024": ("SW19", "SW20", "CR4", "SM4"),  # Merton
    "E09000025": ("E6", "E7", "E12", "E13", "E15", "E16"),  # Newham
    "E09000026": ("IG1", "IG2", "IG3", "IG4", "IG5", "IG6", "IG8", "E18"),  # Redbridge
    "E09000027": ("TW1", "TW2", "TW9", "TW10", "TW11", "TW12", "SW13", "SW14"),  # Richmond
    "E09000028": ("SE1", "SE5", "SE15", "SE16", "SE17", "SE21", "SE22"),  # Southwark
    "E09000029": ("SM1", "SM2", "SM3", "SM5", "SM6"),  # Sutton
    "E09000030": ("E1", "E1W", "E3", "E14"),  # Tower Hamlets
    "E09000031": ("E4", "E10", "E11", "E17"),  # Waltham Forest
    "E09000032": ("SW11", "SW12", "SW15", "SW17", "SW18"),  # Wandsworth
    "E09000033": ("W1U", "W1K", "W2", "W9", "SW1A", "SW1V", "NW8", "WC2N"),  # Westminster
}
