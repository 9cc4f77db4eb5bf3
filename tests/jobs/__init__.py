"""Tests of the import and export job kinds."""
