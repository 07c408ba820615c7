export interface ProfilesTable {
  /** The identity `sub`. */
  id: string;
  display_name: string | null;
  email: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface UsersDatabase {
  profiles: ProfilesTable;
}
