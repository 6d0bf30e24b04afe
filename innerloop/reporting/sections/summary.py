"""Section "Summary": the headline findings, from the tables of the sections below."""

from . import Section

SECTION = Section("summary", "Summary")
