"""Analysis of a recorded call (`poise analyze`): summary, outputs and plot."""
