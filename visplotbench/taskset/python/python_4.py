import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

df = pd.read_csv("data.csv")

grid = df.pivot(index="north_km", columns="east_km", values="elevation_m")
X, Y = np.meshgrid(grid.columns.values, grid.index.values)
Z = grid.values

fig = plt.figure(figsize=(10, 7))
ax = fig.add_subplot(111, projection="3d")
surf = ax.plot_surface(X, Y, Z, cmap="terrain", edgecolor="#333333", linewidth=0.3, antialiased=True)
ax.view_init(elev=30, azim=-60)
ax.set_xlabel("East (km)")
ax.set_ylabel("North (km)")
ax.set_zlabel("Elevation (m)")
ax.set_title("Surveyed Terrain Elevation", fontsize=14)
cbar = fig.colorbar(surf, ax=ax, shrink=0.6, pad=0.1)
cbar.set_label("Elevation (m)")
plt.show()
