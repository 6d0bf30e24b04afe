"""Section "Claims": each claim of the paper against this run, with the seed as the unit of
inference (innerloop.stats.claims), laid out from the report context, not as a table."""

from . import TABLES, Section

SECTION = Section("claims", "Claims", context="claims",
                  sources={"claims": f"{TABLES}/claims.csv", "claims_runs": f"{TABLES}/claims_runs.csv"})
