"""Subsidies and the money trail: the county's policy rules, its payment plan, each case's
approved subsidy, payments and recoveries, the county's funds, and the payment ledger."""
