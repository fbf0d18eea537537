"""Dynamic Desirability lists: the weighted jobs miners scrape and validators reward."""
