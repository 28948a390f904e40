import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

df = pd.read_csv("data.csv")

day_order = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
table = df.pivot(index="day", columns="time_block", values="sessions").reindex(day_order)

fig, ax = plt.subplots(figsize=(10, 6))
sns.heatmap(table, annot=True, fmt="d", cmap="YlGnBu", linewidths=0.5, linecolor="white",
            cbar_kws={"label": "Sessions"}, ax=ax)
ax.set_title("Website Sessions by Day and Time of Day", fontsize=14)
ax.set_xlabel("Time block (hours)")
ax.set_ylabel("Day of week")
ax.tick_params(axis="y", rotation=0)
plt.tight_layout()
plt.show()
