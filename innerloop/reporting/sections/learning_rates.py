"""Section "Learned inner-loop learning rates": the study's Table 1 and Fig. 6, and the test
of each layer's mean rate against zero."""

from . import TABLES, Figure, Section, Table

SECTION = Section(
    "learning-rates", "Learned inner-loop learning rates",
    figures=(Figure("lr_histograms", {"values": f"{TABLES}/lr_values.csv.gz"}),),
    tables=(
        Table("lr_table", {"lr_table": f"{TABLES}/lr_table.csv", "lr_per_seed": f"{TABLES}/lr_layers_per_seed.csv"}),
        Table("lr_below_zero", {"lr_below_zero": f"{TABLES}/lr_below_zero.csv"}),
    ),
)
