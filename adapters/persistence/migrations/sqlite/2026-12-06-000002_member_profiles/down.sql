DROP TABLE member_profiles;
