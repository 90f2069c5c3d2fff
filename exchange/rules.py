"""Permissions of the exchange; the role predicates come from accounts.rules."""

import rules

from accounts.rules import is_secretariat, is_staff_reader

rules.add_perm("exchange", is_staff_reader)
for model in ("focusarea", "sdg"):
    rules.add_perm(f"exchange.view_{model}", is_staff_reader)
    for action in ("add", "change", "delete"):
        rules.add_perm(f"exchange.{action}_{model}", is_secretariat)
