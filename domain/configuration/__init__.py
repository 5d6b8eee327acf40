"""Organization configuration (SPEC §1): what admins set up and everything else reads."""
