"""Baseline against treated scenarios side by side in ParaView (5.10 or later), written by hemotwin
next to report.html.

    paraview --script=view.py            one view per scenario, cameras linked
    pvpython view.py --screenshot DIR    renders each view to DIR/NAME.png offscreen and exits

Each view shows one scenario: its wall (FOLDER/wall.vtp) coloured by the time-averaged wall shear
stress (tawss_pa, Pa), cut open along the vessel's mid-plane, and on that plane the velocity
magnitude (m/s) of the last frame of FOLDER/fluid.pvd. Colour scales and camera are the same in
every view so that they compare; the uncut wall stays in the pipeline browser (eye icon to show).
"""

import argparse
import math
import os
import re
import sys
import xml.etree.ElementTree as ET

import paraview.simple as pv

# (name, folder relative to this script) of each scenario, the baseline first.
SCENARIOS = []  # filled in by hemotwin

# Pixels of each view in screenshots.
SIZE = [900, 700]
# Camera view angle, degrees (ParaView's default).
VIEW_ANGLE = 30.0


def script_folder():
    """The folder of this script (scenario folders are relative to it)."""
    try:
        return os.path.dirname(os.path.abspath(__file__))
    except NameError:  # a ParaView that runs scripts without __file__
        return os.getcwd()


def arguments():
    """The --screenshot folder, or None; arguments of ParaView itself are ignored."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", metavar="DIR", help="render each view to DIR/NAME.png and exit")
    args, _ = parser.parse_known_args(getattr(sys, "argv", [])[1:])
    return args.screenshot


def last_frame(pvd):
    """The data file of the latest time step listed in the collection `pvd`, or None."""
    if not os.path.isfile(pvd):
        return None
    frames = [
        (float(d.get("timestep", "0")), d.get("file"))
        for d in ET.parse(pvd).getroot().iter("DataSet")
        if d.get("file")
    ]
    if not frames:
        return None
    path = os.path.join(os.path.dirname(pvd), max(frames, key=lambda f: f[0])[1])
    return path if os.path.isfile(path) else None


def open_scenario(name, folder):
    """Readers of one scenario's wall and last fluid frame (None where a file is missing)."""
    base = os.path.join(script_folder(), folder)
    wall_path = os.path.join(base, "wall.vtp")
    if not os.path.isfile(wall_path):
        print("view.py: %s: no wall.vtp in %s; left out" % (name, base), file=sys.stderr)
        return None
    wall = pv.XMLPolyDataReader(registrationName=name + " wall", FileName=[wall_path])
    frame = last_frame(os.path.join(base, "fluid.pvd"))
    if frame is None:
        print("view.py: %s: no fluid frame in %s/fluid.pvd; wall only" % (name, base), file=sys.stderr)
        fluid = None
    else:
        fluid = pv.XMLImageDataReader(registrationName=name + " fluid, last frame", FileName=[frame])
    return wall, fluid


def bounds_of(sources):
    """The bounding box (xmin, xmax, ymin, ymax, zmin, zmax) of all `sources`, m."""
    box = [math.inf, -math.inf] * 3
    for source in sources:
        source.UpdatePipeline()
        b = source.GetDataInformation().GetBounds()
        for axis in range(3):
            box[2 * axis] = min(box[2 * axis], b[2 * axis])
            box[2 * axis + 1] = max(box[2 * axis + 1], b[2 * axis + 1])
    return box


def array_range(sources, name, component=0):
    """The range of point array `name` over `sources` (component -1: vector magnitude), or None."""
    lo, hi = math.inf, -math.inf
    for source in sources:
        if name in source.PointData.keys():
            a, b = source.PointData[name].GetRange(component)
            lo, hi = min(lo, a), max(hi, b)
    return (lo, hi) if lo <= hi else None


def keep_between(threshold, lo, hi):
    """Sets the kept range of a Threshold filter across ParaView versions."""
    try:
        threshold.LowerThreshold = lo
        threshold.UpperThreshold = hi
    except AttributeError:  # ParaView before 5.10
        threshold.ThresholdRange = [lo, hi]


def scenario_view(name, wall, fluid, origin, normal):
    """A render view of one scenario: the wall cut at the plane, the velocity on the plane."""
    view = pv.CreateView("RenderView")
    view.ViewSize = SIZE
    cut = pv.Clip(registrationName=name + " wall, cut open", Input=wall)
    cut.ClipType = "Plane"
    cut.ClipType.Origin = origin
    cut.ClipType.Normal = normal
    cut.Invert = 1
    shown = pv.Show(cut, view)
    if "tawss_pa" in wall.PointData.keys():
        pv.ColorBy(shown, ("POINTS", "tawss_pa"))
        shown.SetScalarBarVisibility(view, True)
    if fluid is not None:
        plane = pv.Slice(registrationName=name + " velocity slice", Input=fluid)
        plane.SliceType = "Plane"
        plane.SliceType.Origin = origin
        plane.SliceType.Normal = normal
        if "fluid" in fluid.PointData.keys():  # drop the solid nodes around the vessel
            inside = pv.Threshold(registrationName=name + " velocity slice, fluid", Input=plane)
            inside.Scalars = ["POINTS", "fluid"]
            keep_between(inside, 0.5, 1.5)
            plane = inside
        shown = pv.Show(plane, view)
        if "velocity" in fluid.PointData.keys():
            pv.ColorBy(shown, ("POINTS", "velocity", "Magnitude"))
            shown.SetScalarBarVisibility(view, True)
    label = pv.Text(registrationName=name + " label", Text=name)
    pv.Show(label, view).FontSize = 20
    return view


def share_colour_scale(array, value_range, title, views, preset=None):
    """One fixed colour scale for `array` over `value_range` in every view."""
    lut = pv.GetColorTransferFunction(array)
    if preset:
        lut.ApplyPreset(preset, True)
    lut.AutomaticRescaleRangeMode = "Never"
    lut.RescaleTransferFunction(*value_range)
    pv.GetOpacityTransferFunction(array).RescaleTransferFunction(*value_range)
    for view in views:
        bar = pv.GetScalarBar(lut, view)
        bar.Title = title
        bar.ComponentTitle = ""


def main():
    screenshot = arguments()
    pv._DisableFirstRenderCameraReset()
    scenarios = []
    for name, folder in SCENARIOS:
        opened = open_scenario(name, folder)
        if opened is not None:
            scenarios.append((name,) + opened)
    if not scenarios:
        sys.exit("view.py: no scenario has a wall.vtp; run the plan first")
    walls = [s[1] for s in scenarios]
    fluids = [s[2] for s in scenarios if s[2] is not None]

    # The mid-plane across the thinnest extent of the vessels (the plane of a bifurcation), the
    # camera on its normal looking at the cut, the vessel's length upwards.
    box = bounds_of(walls)
    extent = [box[2 * a + 1] - box[2 * a] for a in range(3)]
    centre = [(box[2 * a] + box[2 * a + 1]) / 2 for a in range(3)]
    thin, long = extent.index(min(extent)), extent.index(max(extent))
    normal = [1.0 if a == thin else 0.0 for a in range(3)]
    up = [1.0 if a == long else 0.0 for a in range(3)]
    radius = 0.5 * math.sqrt(sum(e * e for e in extent))
    distance = radius / math.sin(math.radians(VIEW_ANGLE / 2))

    views = [scenario_view(name, wall, fluid, centre, normal) for name, wall, fluid in scenarios]
    tawss = array_range(walls, "tawss_pa")
    if tawss is not None:
        share_colour_scale("tawss_pa", (0.0, tawss[1]), "TAWSS, Pa", views)
    speed = array_range(fluids, "velocity", -1)
    if speed is not None:
        share_colour_scale("velocity", (0.0, speed[1]), "velocity, m/s", views, "Viridis (matplotlib)")
    for i, view in enumerate(views):
        view.CameraFocalPoint = centre
        view.CameraPosition = [c + distance * n for c, n in zip(centre, normal)]
        view.CameraViewUp = up
        view.CameraViewAngle = VIEW_ANGLE
        view.CenterOfRotation = centre
        if i > 0:
            pv.AddCameraLink(views[0], view, "hemotwin camera %d" % i)

    layout = pv.CreateLayout("hemotwin plan")
    cell = 0
    for i, view in enumerate(views[:-1]):
        left = layout.SplitHorizontal(cell, 1.0 / (len(views) - i))
        pv.AssignViewToLayout(view=view, layout=layout, hint=left)
        cell = left + 1
    pv.AssignViewToLayout(view=views[-1], layout=layout, hint=cell)

    if screenshot:
        os.makedirs(screenshot, exist_ok=True)
        for (name, _, _), view in zip(scenarios, views):
            path = os.path.join(screenshot, re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".png")
            pv.Render(view)
            pv.SaveScreenshot(path, view, ImageResolution=SIZE)
            print("view.py: wrote " + path)
        return
    pv.SetActiveView(views[0])
    for view in views:
        pv.Render(view)


main()
