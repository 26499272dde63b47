"""Pure lending rules: rates, schedules, accrual, allocation, days past due, classification.

No Django, no database, no clock: dates and "today" are arguments.
"""
