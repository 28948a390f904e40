import matplotlib.pyplot as plt
import pandas as pd

df = pd.read_csv("data.csv")

sources = ["coal", "natural_gas", "hydro", "wind", "solar"]
labels = ["Coal", "Natural gas", "Hydro", "Wind", "Solar"]
colors = ["#4d4d4d", "#c8a97e", "#4169e1", "#90ee90", "#ffd700"]

fig, ax = plt.subplots(figsize=(11, 6))
ax.stackplot(df["year"], [df[s] for s in sources], labels=labels, colors=colors, alpha=0.85)
ax.set_xlim(df["year"].min(), df["year"].max())
ax.set_title("Electricity Generation by Source, 2010-2023", fontsize=14)
ax.set_xlabel("Year")
ax.set_ylabel("Generation (TWh)")
ax.yaxis.grid(True, alpha=0.3)
handles, labs = ax.get_legend_handles_labels()
ax.legend(handles[::-1], labs[::-1], loc="upper right")
plt.tight_layout()
plt.show()
