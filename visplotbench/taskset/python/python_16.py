import pandas as pd
import plotly.express as px

df = pd.read_csv("data.csv")

fig = px.scatter_3d(df, x="alcohol_pct", y="malic_acid_gl", z="color_intensity", color="cultivar",
                    color_discrete_sequence=px.colors.qualitative.Bold,
                    title="Wine Samples by Chemical Profile")
fig.update_traces(marker=dict(size=6, line=dict(width=1, color="white")))
fig.update_layout(
    width=900, height=700,
    scene=dict(xaxis_title="Alcohol (%)", yaxis_title="Malic acid (g/L)", zaxis_title="Colour intensity",
               camera=dict(eye=dict(x=1.6, y=1.6, z=1.0))),
    legend=dict(title="Cultivar", x=0.02, y=0.98),
)
fig.show()
