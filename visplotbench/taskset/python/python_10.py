import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

df = pd.read_csv("data.csv")

sns.set_theme(style="whitegrid")
fig, ax = plt.subplots(figsize=(10, 6))
sns.violinplot(data=df, x="method", y="score", hue="attendance", split=True, inner="quart", cut=0,
               palette={"Online": "lightskyblue", "In person": "salmon"}, ax=ax)
ax.set_ylim(20, 110)
ax.set_title("Exam Scores by Teaching Method and Attendance", fontsize=14)
ax.set_xlabel("Teaching method")
ax.set_ylabel("Exam score")
ax.legend(title="Attendance", loc="lower right")
plt.tight_layout()
plt.show()
