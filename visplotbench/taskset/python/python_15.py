import pandas as pd
import plotly.graph_objects as go

df = pd.read_csv("data.csv")

labels = list(dict.fromkeys(list(df["source"]) + list(df["target"])))
index = {name: i for i, name in enumerate(labels)}
palette = ["#f4b400", "#4caf50", "#607d8b", "#6d4c41", "#8bc34a", "#2196f3", "#ff7043",
           "#9c27b0", "#795548", "#e91e63", "#9e9e9e"]

fig = go.Figure(go.Sankey(
    node=dict(label=labels, pad=15, thickness=20, line=dict(color="#333333", width=0.5),
              color=[palette[i % len(palette)] for i in range(len(labels))]),
    link=dict(source=df["source"].map(index), target=df["target"].map(index),
              value=df["value_pj"], color="rgba(150,150,150,0.35)"),
))
fig.update_layout(title=dict(text="Regional Energy Flows (PJ)", font=dict(size=18)),
                  font=dict(size=12), width=1000, height=600)
fig.show()
