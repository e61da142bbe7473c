"""Who pays: payer splits and the fiscal ledger (ledger.py)."""
