"""The business calendar: timezone, opening hours, quiet hours, Chinese holidays and 调休, lunar dates."""
