import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

df = pd.read_csv("data.csv")

sns.set_theme(style="white")
palette = {"Weekday": "teal", "Weekend": "coral"}
fig, ax = plt.subplots(figsize=(9, 5.5))
sns.kdeplot(data=df, x="sleep_hours", hue="night_type", fill=True, alpha=0.35, linewidth=2,
            palette=palette, common_norm=False, ax=ax)
for night, color in palette.items():
    ax.axvline(df.loc[df["night_type"] == night, "sleep_hours"].mean(), color=color, linestyle="--", linewidth=1.5)

ax.set_title("Distribution of Nightly Sleep Duration", fontsize=14)
ax.set_xlabel("Sleep (hours)")
ax.set_ylabel("Density")
ax.get_legend().set_title("Night type")
sns.move_legend(ax, "upper right")
sns.despine()
plt.tight_layout()
plt.show()
