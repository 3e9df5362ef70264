import Engine
import Render
import Support

/// Names the user types for things other than layers, with a did-you-mean when they are misspelt (exit 2).
public enum Lookup {
    /// The colormap called `name`.
    public static func colormap(_ name: String) throws -> Colormap {
        do { return try Colormap.named(name) } catch {
            throw UsageError(unknownNameMessage("colormap", name, known: Colormap.names))
        }
    }
}
