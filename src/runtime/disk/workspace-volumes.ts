// Where a workspace's files live: a directory that holds them to a size (a filesystem of its
// own), or, without quotas, a plain directory on the host disk. The workspace service asks for a
// workspace's directory here and never makes or removes one itself.

/** Owner of a new volume's root directory (the workspace's user on the host). */
export interface VolumeOwner {
  uid: number;
  gid: number;
}

export interface VolumeUsage {
  /** Capacity of the volume (the host filesystem's, without quotas). */
  sizeBytes: number;
  usedBytes: number;
  /** What the workspace can still write. */
  freeBytes: number;
}

export interface WorkspaceVolumes {
  /** True when a write past sizeBytes fails inside the workspace (ENOSPC) and the host disk is spared. */
  readonly quota: boolean;
  /** The size of a new volume. */
  readonly sizeBytes: number | undefined;
  /**
   * Makes a new workspace's directory at dir, empty and owned by owner (the server's own user when
   * not given), on a volume of sizeBytes when quotas are on; mounted when this resolves. A failure
   * leaves nothing behind.
   */
  create(id: string, dir: string, options?: { sizeBytes?: number; owner?: VolumeOwner }): Promise<void>;
  /**
   * Mounts an existing workspace's volume at dir unless it is there already (a server start after
   * a crash finds it mounted). Resolves false when the workspace has no volume: it was made
   * without quotas, and its directory is a plain one.
   */
  mount(id: string, dir: string): Promise<boolean>;
  /** Unmounts what is mounted at dir; nothing when nothing is. */
  unmount(dir: string): Promise<void>;
  /** Unmounts and deletes the workspace's volume and its directory; nothing when they are gone. */
  remove(id: string, dir: string): Promise<void>;
  /** How full the workspace's directory is, as the kernel counts it. */
  usage(dir: string): Promise<VolumeUsage>;
  /**
   * Unmounts every volume this object mounted or found mounted (the server is stopping), but those
   * at the directories in `keep` (workspaces that keep running).
   */
  unmountAll(keep?: ReadonlySet<string>): Promise<void>;
}
