"""The territorial levels Milieu counts at, each with its column in INSEE's geography table."""

LEVELS = {"commune": "CODGEO", "departement": "DEP", "region": "REG", "zone_emploi": "ZE2020"}
