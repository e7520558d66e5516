"""Satisfaction and scoring (满意度与考核): mystery-shopper audits and their performance-pay multiplier."""
